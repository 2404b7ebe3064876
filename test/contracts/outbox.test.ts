import { describe } from 'vitest';
import { outboxContract } from './outbox.contract.js';
import { STORE_IMPLEMENTATIONS } from './subjects.js';

describe.each(STORE_IMPLEMENTATIONS)('Outbox (%s)', (_name, create) => {
  outboxContract(create);
});
