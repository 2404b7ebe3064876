import { describe } from 'vitest';
import { initMarkerContract } from './init-marker.contract.js';
import { STORE_IMPLEMENTATIONS } from './subjects.js';

describe.each(STORE_IMPLEMENTATIONS)('InitMarker (%s)', (_name, create) => {
  initMarkerContract(create);
});
