/** Open tickets for the history's pure parts: a critical port of the shop's database VM unless told otherwise. */
import type { OpenTicket } from '../../src/history/ticket.ts';
import { SHOP_DB } from './owners.ts';

const DAY_MS = 86_400_000;

/** Ticket `id` on 203.0.113.`id`, opened `daysOpen` days before `now`. */
export function openTicketAged(id: number, daysOpen: number, now: Date, fields: Partial<OpenTicket> = {}): OpenTicket {
  return {
    id,
    ip: `203.0.113.${id}`,
    port: 2375,
    protocol: 'tcp',
    openedAt: new Date(now.getTime() - daysOpen * DAY_MS),
    severity: 'critical',
    service: null,
    owner: SHOP_DB,
    admittedByJson: '[]',
    exceptions: [],
    ...fields,
  };
}
