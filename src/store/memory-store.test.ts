import { createMemoryStore } from './index.js';
import { runLeaseStoreContract } from './store.contract.js';

runLeaseStoreContract('memory', async () => ({ store: createMemoryStore() }));
