import { queueBackendSuite } from './flows-queue.suite.ts';

queueBackendSuite('nats');
