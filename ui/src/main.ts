import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { markOnce } from './lib/startupMarks';

markOnce('ui-script');

const target = document.getElementById('app');
if (!target) throw new Error('#app missing');
const app = mount(App, { target });
markOnce('ui-mounted');
export default app;
