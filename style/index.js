import './base.css';
import './sidebar.css';
import './replay.css';
