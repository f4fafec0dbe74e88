// Builds the access portal and the admin console (web/) into dist/web: the server serves the portal
// under /start, the console under /console, and both pages' assets under /start/assets.

import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('web', import.meta.url)),
  base: '/start/',
  plugins: [react()],
  // Cloudscape is most of the bundle; it loads once and is then cached for good (hashed names).
  build: {
    outDir: fileURLToPath(new URL('dist/web', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      input: {
        portal: fileURLToPath(new URL('web/index.html', import.meta.url)),
        console: fileURLToPath(new URL('web/console.html', import.meta.url)),
      },
    },
  },
});
