-- The keys of each application (SHA-256 of the SubjectPublicKeyInfo), so that a
-- key already waiting in a pending application is refused at submission.
ALTER TABLE applications ADD COLUMN auth_key BLOB;
ALTER TABLE applications ADD COLUMN sign_key BLOB;
CREATE INDEX applications_auth_key ON applications(auth_key) WHERE auth_key IS NOT NULL;
CREATE INDEX applications_sign_key ON applications(sign_key) WHERE sign_key IS NOT NULL;
