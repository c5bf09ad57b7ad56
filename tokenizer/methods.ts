// The built-in tokenizer methods: one registration line each.
import { registerTokenizer } from './registry.js';
import { rqKMeansFactory } from './rqKmeans.js';
import { fixedFactory } from './fixed.js';
import { rqVaeFactory } from './rqVae.js';
import { fsqFactory, rfsqFactory } from './fsq.js';

registerTokenizer('rqkmeans', rqKMeansFactory);
registerTokenizer('fixed', fixedFactory);
registerTokenizer('rqvae', rqVaeFactory);
registerTokenizer('fsq', fsqFactory);
registerTokenizer('rfsq', rfsqFactory);
