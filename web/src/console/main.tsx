// Entry point of the admin console (/console): the same React and Cloudscape app as the portal,
// one lazily loaded chunk per page.

import '@cloudscape-design/global-styles/index.css';
import '../portal.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ConsoleApp } from './app.js';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ConsoleApp />
  </StrictMode>,
);
