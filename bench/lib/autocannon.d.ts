// The slice of autocannon 8's API the bench uses (it ships no types).
declare module 'autocannon' {
  export interface Options {
    url: string;
    connections?: number;
    duration?: number;
    method?: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: string;
    warmup?: { connections?: number; duration?: number };
  }
  export interface Histogram {
    average: number;
    p50: number;
    p99: number;
    total: number;
  }
  export interface Result {
    /** seconds the measured part ran */
    duration: number;
    '2xx': number;
    non2xx: number;
    errors: number;
    timeouts: number;
    requests: Histogram;
    latency: Histogram;
  }
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
