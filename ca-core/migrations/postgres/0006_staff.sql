-- The authority's own staff, whose certificates are their credentials.
ALTER TABLE pairs ADD COLUMN staff_role TEXT;
CREATE INDEX pairs_staff ON pairs(staff_role) WHERE staff_role IS NOT NULL;
