import { describe } from 'vitest';
import { upstreamStoreContract } from './upstream-store.contract.js';
import { STORE_IMPLEMENTATIONS } from './subjects.js';

describe.each(STORE_IMPLEMENTATIONS)('UpstreamStore (%s)', (_name, create) => {
  upstreamStoreContract(create);
});
