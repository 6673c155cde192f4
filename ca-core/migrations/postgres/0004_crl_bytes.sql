-- Every CRL issued, by whatever process, is kept with its bytes once signed.
ALTER TABLE crls ADD COLUMN der BYTEA;
