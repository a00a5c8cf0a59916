import { SLICE_ROWS, SliceSizes } from '../../src/ledger/sqlite/deferred-index.js';

describe('the rows of a deferred index\'s next slice', () => {
  it('start at SLICE_ROWS, then follow how long the last slice took, towards ~2 ms', () => {
    const sizes = new SliceSizes();
    expect(sizes.next('event-ids')).toBe(SLICE_ROWS);
    sizes.took('event-ids', 1000, 8);
    expect(sizes.next('event-ids')).toBe(250);
    sizes.took('event-ids', 250, 1);
    expect(sizes.next('event-ids')).toBe(500);
  });

  it('stay between 100 rows and SLICE_ROWS, however slow or fast the last slice was', () => {
    const sizes = new SliceSizes();
    sizes.took('blind-index', 1000, 500);
    expect(sizes.next('blind-index')).toBe(100);
    sizes.took('blind-index', 100, 0);
    expect(sizes.next('blind-index')).toBe(SLICE_ROWS);
  });

  it('are kept for each index apart', () => {
    const sizes = new SliceSizes();
    sizes.took('subjects', 1000, 10);
    expect(sizes.next('subjects')).toBe(200);
    expect(sizes.next('blind-index')).toBe(SLICE_ROWS);
  });
});
