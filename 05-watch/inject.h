/* inject: put live reload's script tag into an HTML page. */
#ifndef INJECT_H
#define INJECT_H

#include "buf.h"

void inject_script(struct buf *page, const char *tag);

#endif
