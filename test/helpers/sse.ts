// Server-sent events as tests read them: a response body cut into its blocks.

/** One block of an event stream: its fields, or the comment a block of its own carries. */
export interface SseBlock {
  id?: string;
  event?: string;
  /** the data line, not yet parsed */
  data?: string;
  /** a comment line (`: connected`), without the colon */
  comment?: string;
}

/** Takes the complete blocks off the front of a buffer; `rest` is what has not ended yet. */
export function takeSseBlocks(buffer: string): { blocks: SseBlock[]; rest: string } {
  const blocks: SseBlock[] = [];
  let rest = buffer;
  let cut: number;
  while ((cut = rest.indexOf('\n\n')) >= 0) {
    const b: SseBlock = {};
    for (const line of rest.slice(0, cut).split('\n')) {
      if (line.startsWith('id: ')) b.id = line.slice(4);
      else if (line.startsWith('event: ')) b.event = line.slice(7);
      else if (line.startsWith('data: ')) b.data = line.slice(6);
      else if (line.startsWith(':')) b.comment = line.slice(1).trim();
    }
    blocks.push(b);
    rest = rest.slice(cut + 2);
  }
  return { blocks, rest };
}
