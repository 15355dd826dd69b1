import { describe, expect, it } from 'vitest';
import { assignMedia, planVolumes, volumeFileName, type MediumRoom } from '../../src/media/plan.js';
import { DISC_RESERVE, FAT32_MAX_FILE, parseByteSize, parseVolumeSize } from '../../src/media/sizes.js';

describe('volume sizes', () => {
  it('defaults to the FAT32 file limit and reads units and disc names', () => {
    expect(parseVolumeSize(undefined)).toEqual({ volumeSize: FAT32_MAX_FILE });
    expect(parseVolumeSize('700').volumeSize).toBe(700);
    expect(parseVolumeSize('512K').volumeSize).toBe(512 * 1024);
    expect(parseVolumeSize('100M').volumeSize).toBe(100 * 1024 ** 2);
    expect(parseVolumeSize('4G').volumeSize).toBe(4 * 1024 ** 3);
    expect(parseVolumeSize('dvd')).toEqual({ volumeSize: 4_700_372_992 - DISC_RESERVE, mediumCapacity: 4_700_372_992 });
    expect(parseVolumeSize('BD25').mediumCapacity).toBe(25_025_314_816);
  });

  it('refuses what is not a size', () => {
    for (const bad of ['0', '-1', 'floppy', '4X', '']) expect(() => parseVolumeSize(bad)).toThrow(/--volume-size/);
    expect(() => parseByteSize('lots', '--media-size')).toThrow(/--media-size "lots"/);
  });
});

describe('planVolumes', () => {
  it('cuts contiguous volumes, the last one short', () => {
    const volumes = planVolumes('a-1.0.0.airlock', 2500, 1000);
    expect(volumes).toEqual([
      { index: 1, file: 'a-1.0.0.airlock.001', start: 0, size: 1000 },
      { index: 2, file: 'a-1.0.0.airlock.002', start: 1000, size: 1000 },
      { index: 3, file: 'a-1.0.0.airlock.003', start: 2000, size: 500 },
    ]);
  });

  it('makes no empty volume when the size divides the bundle exactly', () => {
    expect(planVolumes('a.airlock', 3072, 1024).map((v) => v.size)).toEqual([1024, 1024, 1024]);
  });

  it('widens the number when there are more than 999 volumes, so names still sort', () => {
    expect(volumeFileName('a.airlock', 7, 1200)).toBe('a.airlock.0007');
    expect(planVolumes('a.airlock', 1000 * 1001, 1000)).toHaveLength(1001);
  });
});

describe('assignMedia', () => {
  const room = (dir: string, capacity: number, pool = dir): MediumRoom => ({ dir, capacity, pool, poolFree: Number.MAX_SAFE_INTEGER });

  it('fills each medium before the next, the first one also carrying the installer', () => {
    const volumes = planVolumes('a.airlock', 10_000, 1000);
    // medium 1: 500 installer + 100 index leave room for 4 volumes; media 2 and 3: 100 index + 5 volumes.
    expect(assignMedia(volumes, [room('m1', 4600), room('m2', 5200), room('m3', 5200)], 500, 100)).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 2, 3]);
  });

  it('shares the free space of media on one filesystem', () => {
    const volumes = planVolumes('a.airlock', 4000, 1000);
    const shared = (dir: string): MediumRoom => ({ dir, capacity: Infinity, pool: 'dev1', poolFree: 3000 });
    expect(() => assignMedia(volumes, [shared('m1'), shared('m2')], 0, 0)).toThrow(/medium 2 \(m2\) cannot hold one/);
  });

  it('says how much is left when the media run out', () => {
    expect(() => assignMedia(planVolumes('a.airlock', 5000, 1000), [room('m1', 2000), room('m2', 2000)], 0, 0)).toThrow(/hold 4 of 5 volumes: 1 more/);
  });

  it('names a medium too small for even one volume', () => {
    expect(() => assignMedia(planVolumes('a.airlock', 3000, 1000), [room('m1', 900)], 0, 0)).toThrow(/medium 1 \(m1\) cannot hold one/);
  });
});
