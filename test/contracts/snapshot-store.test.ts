import { describe } from 'vitest';
import { snapshotStoreContract } from './snapshot-store.contract.js';
import { STORE_IMPLEMENTATIONS } from './subjects.js';

describe.each(STORE_IMPLEMENTATIONS)('SnapshotStore (%s)', (_name, create) => {
  snapshotStoreContract(create);
});
