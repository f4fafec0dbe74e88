// Builds the access portal (web/) into dist/web, which the server serves under /start.

import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('web', import.meta.url)),
  base: '/start/',
  plugins: [react()],
  // Cloudscape is most of the bundle; it loads once and is then cached for good (hashed names).
  build: { outDir: fileURLToPath(new URL('dist/web', import.meta.url)), emptyOutDir: true, chunkSizeWarningLimit: 1024 },
});
