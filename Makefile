# mod_zddc_mirror: build with apxs, test under prove, demo on 127.0.0.1.
SHELL     := /bin/bash
APXS      ?= apxs
PROVE     ?= prove
PYTHON    ?= /usr/bin/python3
MODNAME    = zddc_mirror
SRCS       = mod_zddc_mirror.c $(wildcard modules/*.c)
HDRS       = $(wildcard modules/*.h)
WARN       = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
SAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ifeq ($(SANITIZE),1)
  XCFLAGS  = $(WARN) -O1 -g $(SAN_FLAGS)
  XLDFLAGS = $(SAN_FLAGS)
  BUILD    = build-san
else
  XCFLAGS  = $(WARN) -O2 -g
  XLDFLAGS =
  BUILD    = build
endif
APXS_CFLAGS  = $(foreach f,$(XCFLAGS),-Wc,$(f)) -Imodules
APXS_LDFLAGS = $(foreach f,$(XLDFLAGS),-Wl,$(f)) -lcurl -lcjson
LIBEXECDIR   = $(shell $(APXS) -q LIBEXECDIR 2>/dev/null)
SYSCONFDIR   = $(shell $(APXS) -q SYSCONFDIR 2>/dev/null)

APR_CFLAGS = $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null)
APR_LIBS   = $(shell apr-1-config --link-ld --libs 2>/dev/null) $(shell apu-1-config --link-ld --libs 2>/dev/null)
UNIT_SRCS  = modules/zddc_rootcheck.c modules/zddc_util.c modules/zddc_json.c modules/zddc_listing.c modules/zddc_store_disk.c modules/zddc_upstream.c modules/zddc_upstream_plain.c
UNIT_TESTS = $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(wildcard t/unit/*.c))

.PHONY: all deps install test unit demo bench clean

all: $(BUILD)/mod_$(MODNAME).so

$(BUILD)/mod_$(MODNAME).so: $(SRCS) $(HDRS)
	@mkdir -p $(BUILD)
	rm -rf $(BUILD)/src && mkdir -p $(BUILD)/src/modules
	cp mod_zddc_mirror.c $(BUILD)/src/ && cp modules/*.c modules/*.h $(BUILD)/src/modules/
	cd $(BUILD)/src && $(APXS) -c -o mod_$(MODNAME).la $(APXS_CFLAGS) $(APXS_LDFLAGS) \
	    mod_zddc_mirror.c $(patsubst %,%,$(wildcard modules/*.c)) >build.log 2>&1 \
	    || { cat build.log; exit 1; }
	cp $(BUILD)/src/.libs/mod_$(MODNAME).so $@.tmp && mv -f $@.tmp $@

$(BUILD)/unit/%: t/unit/%.c t/unit/tap.h $(UNIT_SRCS) $(HDRS)
	@mkdir -p $(BUILD)/unit
	$(CC) $(XCFLAGS) -Imodules -It/unit $(APR_CFLAGS) -o $@ $< $(UNIT_SRCS) $(XLDFLAGS) $(APR_LIBS) -lcjson -lcurl

unit: $(UNIT_TESTS)

deps:
	@sh t/lib/install-deps.sh

install: $(BUILD)/mod_$(MODNAME).so
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSCONFDIR)/mods-available
	install -m 644 $(BUILD)/mod_$(MODNAME).so $(DESTDIR)$(LIBEXECDIR)/mod_$(MODNAME).so
	install -m 644 conf/zddc_mirror.load conf/zddc_mirror.conf $(DESTDIR)$(SYSCONFDIR)/mods-available/

test: deps
	$(MAKE) all unit SANITIZE=$(SANITIZE)
	ZDDC_BUILD=$(CURDIR)/$(BUILD) ZDDC_SANITIZE=$(SANITIZE) $(PROVE) -j2 t/*.t

demo: deps
	$(MAKE) all
	$(PYTHON) t/lib/demo.py --module $(CURDIR)/build/mod_$(MODNAME).so

clean:
	rm -rf build build-san

bench: deps
	$(MAKE) all
	$(PYTHON) bench/run.py --module $(CURDIR)/build/mod_$(MODNAME).so
