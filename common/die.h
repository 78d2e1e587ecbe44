/* die: start-up errors. Print "server: message" (with the errno text when fmt ends
 * with ':') and exit with status: 1, or 2 for a usage error. Only before the first
 * client, never on a request's path: one client must not end the server. */
#ifndef DIE_H
#define DIE_H

void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
