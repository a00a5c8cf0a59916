import { FLUSH_EVENTS, SLICE_ROWS, SliceSizes } from '../../src/ledger/sqlite/deferred-index.js';

describe('the rows of a deferred index\'s next slice', () => {
  it('start at SLICE_ROWS, then follow how long the last slice took, towards ~2 ms', () => {
    const sizes = new SliceSizes();
    expect(sizes.next('event-ids', 0)).toBe(SLICE_ROWS);
    sizes.took('event-ids', 1000, 8);
    expect(sizes.next('event-ids', 0)).toBe(250);
    sizes.took('event-ids', 250, 1);
    expect(sizes.next('event-ids', 0)).toBe(500);
  });

  it('stay between 100 rows and SLICE_ROWS, however slow or fast the last slice was', () => {
    const sizes = new SliceSizes();
    sizes.took('blind-index', 1000, 500);
    expect(sizes.next('blind-index', 0)).toBe(100);
    sizes.took('blind-index', 100, 0);
    expect(sizes.next('blind-index', 0)).toBe(SLICE_ROWS);
  });

  it('are kept for each index apart', () => {
    const sizes = new SliceSizes();
    sizes.took('subjects', 1000, 10);
    expect(sizes.next('subjects', 0)).toBe(200);
    expect(sizes.next('blind-index', 0)).toBe(SLICE_ROWS);
  });

  it('take all that is left once a whole group has come in meanwhile, and learn nothing from such a slice', () => {
    const sizes = new SliceSizes();
    sizes.took('subjects', 1000, 10);
    expect(sizes.next('subjects', FLUSH_EVENTS - 1)).toBe(200);
    expect(sizes.next('subjects', FLUSH_EVENTS)).toBe(Infinity);
    sizes.took('subjects', Infinity, 80);
    expect(sizes.next('subjects', 0)).toBe(200);
  });
});
