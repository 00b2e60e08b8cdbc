/* Stable ids for the module's log messages, like httpd's APLOGNO: every
 * message starts "ZDDCnnnnn: ", listed with its meaning in the README. */
#ifndef ZDDC_LOG_H
#define ZDDC_LOG_H

/* Ids are never reused or renumbered; a new message takes the next free
 * one (t/log_ids.t checks that each is unique and in the README). */
#define ZDDC_LOGNO(n) "ZDDC" #n ": "

#endif
