# BBT_PLUGIN(NAME, KIND, DEFAULT, DESCRIPTION, [DEPENDENCY-CHECK])
# -----------------------------------------------------------------
# One call per plugin, as collectd's AC_PLUGIN: gives --enable-NAME /
# --disable-NAME, runs DEPENDENCY-CHECK (which sets bbt_dep_ok=yes|no and
# bbt_dep_reason), fails when a plugin the user enabled explicitly lacks its
# dependency, defines the automake conditional BUILD_PLUGIN_NAME and adds a
# line to $bbt_plugin_summary, which configure prints at the end. A skipped
# plugin also gets a "KIND NAME: REASON" line in $bbt_plugin_skipped, which
# BBT_PLUGINS_SKIPPED puts into config.h so that bbtbench can say why a
# plugin asked for is not there.
AC_DEFUN([BBT_PLUGIN], [
  AC_ARG_ENABLE([$1],
    [AS_HELP_STRING([--enable-$1], [build the $1 $2 plugin: $4 (default: $3)])],
    [bbt_want=$enableval bbt_explicit=yes],
    [bbt_want=$3 bbt_explicit=no])
  bbt_dep_ok=yes
  bbt_dep_reason=
  AS_IF([test "x$bbt_want" != xno], [$5])
  AS_IF([test "x$bbt_want" = xno],
          [bbt_build=no bbt_why="disabled"],
        [test "x$bbt_dep_ok" = xyes],
          [bbt_build=yes bbt_why=""],
        [test "x$bbt_explicit" = xyes],
          [AC_MSG_ERROR([--enable-$1 was given but $bbt_dep_reason])],
        [bbt_build=no bbt_why="$bbt_dep_reason"])
  AM_CONDITIONAL(m4_toupper([BUILD_PLUGIN_$1]), [test "x$bbt_build" = xyes])
  AS_IF([test "x$bbt_build" = xyes],
    [bbt_line=$(printf '    %-10s %-10s yes' "$1" "$2")],
    [bbt_line=$(printf '    %-10s %-10s no (%s)' "$1" "$2" "$bbt_why")
     bbt_plugin_skipped="${bbt_plugin_skipped}$2 $1: $(printf '%s' "$bbt_why" | sed 's/[[\\"]]/\\&/g')\\n"])
  bbt_plugin_summary="$bbt_plugin_summary$bbt_line
"
])

# BBT_PLUGINS_SKIPPED
# -------------------
# After the BBT_PLUGIN calls: define BBT_SKIPPED_PLUGINS, a C string of
# "KIND NAME: REASON" lines, one per plugin this build leaves out.
AC_DEFUN([BBT_PLUGINS_SKIPPED], [
  AC_DEFINE_UNQUOTED([BBT_SKIPPED_PLUGINS], ["$bbt_plugin_skipped"],
    [The plugins configure skipped, one "KIND NAME: REASON" line each.])
])
