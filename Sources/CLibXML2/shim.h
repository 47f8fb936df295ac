#ifndef DIGEST_CLIBXML2_SHIM_H
#define DIGEST_CLIBXML2_SHIM_H

// libxml2's XML and HTML parsers, for feeds and web pages. Only DigestFeeds imports this module.
#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU, whose headers clash with the copy of ICU inside Foundation. digest
// never uses libxml2's ICU encoders (iconv covers the charsets feeds use), so leave them out.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

// xmlFree is a global function pointer, which Swift 6 treats as shared mutable state.
static inline void digest_xml_free(void *pointer) {
    xmlFree(pointer);
}

#endif
