import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { markOnce } from './lib/startupMarks';
import { isWebKitGTK } from './lib/platform';

markOnce('ui-script');
// Before the first frame: the font stack for WebKitGTK (app.css says why).
if (isWebKitGTK(navigator.userAgent)) document.documentElement.classList.add('webkitgtk');

const target = document.getElementById('app');
if (!target) throw new Error('#app missing');
const app = mount(App, { target });
markOnce('ui-mounted');
export default app;
