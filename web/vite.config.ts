// Builds the dashboard into dist/web, which enrichd serves at `/` (src/api/routes/dashboard.ts).
// Run from the repository root as `vite build web` (the root is the web/ folder).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    // `npx vite web` for development: the API answers on its own port.
    proxy: { '/v1': 'http://127.0.0.1:3000' },
  },
});
