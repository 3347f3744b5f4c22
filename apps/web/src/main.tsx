import { render } from 'preact';

import { App } from './app.tsx';
import { loadSession } from './core/session.ts';
import './styles.css';

void loadSession().catch(() => undefined);
render(<App />, document.getElementById('app')!);
