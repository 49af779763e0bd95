-- Need-to-know in assignment: the service areas each member of staff deals with, as their last sign-in gave
-- them (STAFF_SERVICE_AREAS or the identity provider's claim). NULL: every area (and anyone never signed in
-- since this column came). A complaint is not assigned to someone whose areas leave it out: they could not
-- open it.
ALTER TABLE staff_users ADD COLUMN IF NOT EXISTS service_areas text[];
