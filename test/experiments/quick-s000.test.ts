import { quickSuite } from './quick.js';

quickSuite(['s000-*']);
