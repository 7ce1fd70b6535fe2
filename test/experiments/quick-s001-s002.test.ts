import { quickSuite } from './quick.js';

quickSuite(['s001-*', 's002-*']);
