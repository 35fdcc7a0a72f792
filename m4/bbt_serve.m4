# BBT_CHECK_SERVE
# ---------------
# `bbtbench serve` (src/serve/) needs libmicrohttpd >= 0.9.71 (the
# MHD_Result type; Debian: libmicrohttpd-dev). --enable-serve makes its
# absence an error, --disable-serve leaves the command out; by default it
# is built when pkg-config finds the library. Sets MICROHTTPD_CFLAGS,
# MICROHTTPD_LIBS, the automake conditional BUILD_SERVE, and in config.h
# BBT_HAVE_SERVE or BBT_SERVE_SKIPPED (why not, for `bbtbench serve` to
# say); $bbt_serve_summary is configure's closing line for it.
AC_DEFUN([BBT_CHECK_SERVE], [
  AC_ARG_ENABLE([serve],
    [AS_HELP_STRING([--enable-serve],
      [build `bbtbench serve`, an HTTP server for a backend (libmicrohttpd; default: when found)])],
    [bbt_serve_want=$enableval], [bbt_serve_want=check])
  bbt_serve=no
  AS_IF([test "x$bbt_serve_want" = xno],
    [bbt_serve_why="disabled"],
    [PKG_CHECK_MODULES([MICROHTTPD], [libmicrohttpd >= 0.9.71],
      [bbt_serve=yes],
      [bbt_serve_why="libmicrohttpd >= 0.9.71 not found: install libmicrohttpd-dev"])])
  AS_IF([test "x$bbt_serve" = xno && test "x$bbt_serve_want" = xyes],
    [AC_MSG_ERROR([--enable-serve was given but $bbt_serve_why])])
  AM_CONDITIONAL([BUILD_SERVE], [test "x$bbt_serve" = xyes])
  AS_IF([test "x$bbt_serve" = xyes],
    [AC_DEFINE([BBT_HAVE_SERVE], [1], [Define if `bbtbench serve` is built.])
     bbt_serve_summary=yes],
    [AC_DEFINE_UNQUOTED([BBT_SERVE_SKIPPED], ["$bbt_serve_why"],
      [Why `bbtbench serve` is not built.])
     bbt_serve_summary="no ($bbt_serve_why)"])
  AC_SUBST([MICROHTTPD_CFLAGS])
  AC_SUBST([MICROHTTPD_LIBS])
])

# BBT_CHECK_LIBCURL
# -----------------
# The http backend's dependency check, for BBT_PLUGIN([http], ...):
# libcurl through pkg-config (Debian: libcurl4-openssl-dev). Sets
# LIBCURL_CFLAGS and LIBCURL_LIBS.
AC_DEFUN([BBT_CHECK_LIBCURL], [
  PKG_CHECK_MODULES([LIBCURL], [libcurl >= 7.62], [],
    [bbt_dep_ok=no bbt_dep_reason="libcurl >= 7.62 not found: install libcurl4-openssl-dev"])
  AC_SUBST([LIBCURL_CFLAGS])
  AC_SUBST([LIBCURL_LIBS])
])
