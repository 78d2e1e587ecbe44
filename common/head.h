/* head: the header section of every response, and the page an error status comes with. */
#ifndef HEAD_H
#define HEAD_H

#include "response.h"

void head_build(struct server *srv, const struct request *req, struct response *r);
void head_error_page(struct server *srv, enum status st, struct response *r);

#endif
