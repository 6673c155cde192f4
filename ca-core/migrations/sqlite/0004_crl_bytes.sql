-- Every CRL issued, by whatever process, is kept with its bytes once signed:
-- the server publishes the newest from here, never from one process's memory.
-- A CRL whose number was taken but which was never signed (a crash) has none
-- and is never a delta's base.
ALTER TABLE crls ADD COLUMN der BLOB;
