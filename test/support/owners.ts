/** Realistic owners of scanned addresses, as the OpenStack inventory will name them. */
import type { AddressOwner } from '../../src/inventory/inventory.ts';

export const SHOP_DB: AddressOwner = {
  vmId: '8a2f6c1e-3b7d-4e59-9c1a-5d0e7f3b2a61',
  vmName: 'db-1',
  vmStatus: 'ACTIVE',
  ownerKind: 'compute',
  userId: 'c0ffee1234567890abcdef1234567890',
  user: 'alice',
  userEmail: 'alice@shop.example.test',
  tenantId: '4b1d2e3f5a6b7c8d9e0f1a2b3c4d5e6f',
  tenant: 'shop',
};

export const BLOG_WEB: AddressOwner = {
  vmId: '1f0e9d8c-7b6a-4594-8372-6150f4e3d2c1',
  vmName: 'web-1',
  vmStatus: 'ACTIVE',
  ownerKind: 'compute',
  userId: 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0',
  user: 'bob',
  userEmail: 'bob@blog.example.test',
  tenantId: '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b',
  tenant: 'blog',
};

export const INFRA_CI: AddressOwner = {
  vmId: '5c4b3a29-1807-4f6e-9d5c-4b3a29180706',
  vmName: 'ci-1',
  vmStatus: 'ACTIVE',
  ownerKind: 'compute',
  userId: 'ca7ca7ca7ca7ca7ca7ca7ca7ca7ca7ca',
  user: 'carol',
  // carol has no email in Keystone.
  userEmail: '',
  tenantId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  tenant: 'infra',
};
