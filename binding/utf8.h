/* Strict UTF-8 for the binding codecs: no overlong forms, no surrogates, nothing above
 * U+10FFFF. Internal to binding/. */
#ifndef BINDING_UTF8_H
#define BINDING_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool binding_utf8_valid(const uint8_t *s, size_t n);

#endif
