-- The operators' queue, read a page at a time in submission order.
CREATE INDEX applications_queue ON applications(state, submitted_at, number);
