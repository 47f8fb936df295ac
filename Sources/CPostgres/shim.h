#ifndef DIGEST_CPOSTGRES_SHIM_H
#define DIGEST_CPOSTGRES_SHIM_H

// libpq, PostgreSQL's own client library (Debian: libpq-dev). Only DigestStore's PostgresStore imports it.
#include <libpq-fe.h>

#endif
