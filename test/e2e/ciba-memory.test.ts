import { describeCibaFlows } from './ciba-flows.js';

describeCibaFlows('memory', () => ({}));
