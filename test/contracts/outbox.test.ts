import { describe } from 'vitest';
import { outboxContract, outboxLaneCapContract, outboxLanesContract, outboxOrderContract } from './outbox.contract.js';
import { STORE_IMPLEMENTATIONS } from './subjects.js';

describe.each(STORE_IMPLEMENTATIONS)('Outbox (%s)', (_name, create) => {
  outboxContract(create);
  describe('order, coalescing and cap', () => outboxOrderContract(create));
  describe('one lane per route', () => outboxLanesContract(create));
  describe('the cap of a lane', () => outboxLaneCapContract(create));
});
