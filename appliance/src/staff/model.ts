// Staff accounts and care units as the rest of the appliance sees them (rows are mapped in store.ts).
export const roles = ['admin', 'clinician', 'support'] as const;
export type Role = (typeof roles)[number];

export interface CareUnit {
  id: string;
  name: string;
  phone: string | null;
}

export interface Staff {
  id: string;
  email: string;
  name: string;
  hsaId: string | null;
  role: Role;
  unitId: string;
  disabled: boolean;
  /** A generated (one-time) password must be replaced before anything else. */
  mustChangePassword: boolean;
}
