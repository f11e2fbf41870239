/** The inventory_file's health, with an inventory_file only (registered when the exporter starts with one). */
import type { Registry } from 'prom-client';
import type { ExporterState } from '../state/exporter-state.ts';
import { registerOptionalGauge } from './gauges.ts';

export function registerInventoryFileMetrics(registry: Registry, state: ExporterState): void {
  registerOptionalGauge(
    registry,
    {
      name: 'exposure_inventory_file_up',
      help: 'Whether the last read of the inventory_file succeeded (1) or it was invalid and the last good one kept (0).',
    },
    () => {
      const { up } = state.health.inventoryFile;
      return up === undefined ? undefined : Number(up);
    },
  );
  registerOptionalGauge(
    registry,
    {
      name: 'exposure_inventory_file_addresses',
      help: 'Addresses the inventory_file in use names an owner for.',
    },
    () => (state.health.inventoryFile.up === undefined ? undefined : state.health.inventoryFile.lastGood.owners.size),
  );
}
