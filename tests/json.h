/* A strict JSON parser (RFC 8259) for the tests that read the tools' JSON
 * (test_tools): parse, walk, and fail the test with the parser's message. */
#ifndef CLCONV_TEST_JSON_H
#define CLCONV_TEST_JSON_H

#include <stdbool.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;
typedef struct jval {
    jtype t;
    double num;
    bool b;
    char *str;               /* J_STR */
    int n;                   /* J_ARR / J_OBJ: count */
    char **keys;             /* J_OBJ */
    struct jval **items;     /* J_ARR / J_OBJ */
} jval;

typedef struct jp {
    const char *s;
    char err[128];
} jp;

/* Parses one value at p->s (advancing it); NULL with p->err set on error. */
jval *jparse_value(jp *p, int depth);
/* Skips white space at p->s. */
void jws(jp *p);
void jfree(jval *v);
/* Parses a whole document; fails the test with the parser's message. */
jval *json_parse_or_fail(const char *text);
/* Member by key (NULL if absent or not an object). */
jval *jget(const jval *o, const char *key);
/* Member by key that must exist with type t (fails the test otherwise). */
jval *jreq(const jval *o, const char *key, jtype t);

#endif
