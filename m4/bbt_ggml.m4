# BBT_CHECK_GGML
# --------------
# The ggml backend's dependency check, for BBT_PLUGIN([ggml], ...). ggml
# (https://github.com/ggml-org/ggml) is not packaged for Debian 12; its
# cmake install writes ggml.pc, which pkg-config finds through
# PKG_CONFIG_PATH. --with-ggml=PREFIX reads PREFIX/lib/pkgconfig/ggml.pc,
# or, without one, PREFIX/include and PREFIX/lib; --without-ggml skips the
# backend; --with-ggml (yes or PREFIX) makes a missing ggml an error.
# Sets GGML_CFLAGS, GGML_LIBS and GGML_RPATH: the module (and the test
# and benchmark programs) get an rpath to ggml's libdir, so a ggml
# installed outside the linker's path loads without LD_LIBRARY_PATH.
AC_DEFUN([BBT_CHECK_GGML], [
  AS_CASE([$with_ggml],
    [no], [bbt_dep_ok=no bbt_dep_reason="--without-ggml"],
    [yes|check], [PKG_CHECK_MODULES([GGML], [ggml], [],
      [bbt_dep_ok=no bbt_dep_reason="pkg-config ggml not found; see README"])],
    [AS_IF([test -f "$with_ggml/lib/pkgconfig/ggml.pc"],
      [bbt_save_pcp=$PKG_CONFIG_PATH
       PKG_CONFIG_PATH="$with_ggml/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
       export PKG_CONFIG_PATH
       PKG_CHECK_MODULES([GGML], [ggml], [],
         [bbt_dep_ok=no bbt_dep_reason="$with_ggml/lib/pkgconfig/ggml.pc is unusable"])
       PKG_CONFIG_PATH=$bbt_save_pcp],
      [GGML_CFLAGS="-I$with_ggml/include"
       GGML_LIBS="-L$with_ggml/lib -lggml"])])
  AS_IF([test "x$bbt_dep_ok" = xyes], [
    # ggml.pc names -lggml only; the graph API lives in libggml-base
    case " $GGML_LIBS " in
    *" -lggml-base "*) ;;
    *) GGML_LIBS="$GGML_LIBS -lggml-base" ;;
    esac
    GGML_RPATH=
    bbt_ggml_link=
    for bbt_f in $GGML_LIBS; do
      case $bbt_f in
      -L*) GGML_RPATH="-R ${bbt_f#-L}" bbt_ggml_link="-Wl,-rpath,${bbt_f#-L}" ;;
      esac
    done
    bbt_save_CPPFLAGS=$CPPFLAGS
    bbt_save_LIBS=$LIBS
    CPPFLAGS="$CPPFLAGS $GGML_CFLAGS"
    LIBS="$GGML_LIBS $bbt_ggml_link $LIBS"
    AC_CHECK_HEADER([ggml-backend.h],
      [AC_CHECK_FUNC([ggml_backend_init_by_name], [],
        [bbt_dep_ok=no bbt_dep_reason="cannot link ggml_backend_init_by_name with $GGML_LIBS (too old? see config.log)"])],
      [bbt_dep_ok=no bbt_dep_reason="ggml-backend.h not found with $GGML_CFLAGS"])
    dnl ggml's cmake install leaves libggml.so without a runpath, so the
    dnl rpath that finds it must also find what it needs (libggml-cpu):
    dnl an old-style DT_RPATH, which the loader applies to dependencies.
    AS_IF([test "x$bbt_dep_ok" = xyes && test "x$GGML_RPATH" != x], [
      LIBS="$LIBS -Wl,--disable-new-dtags"
      AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
        [GGML_RPATH="$GGML_RPATH -Wl,--disable-new-dtags"])])
    CPPFLAGS=$bbt_save_CPPFLAGS
    LIBS=$bbt_save_LIBS])
  AS_IF([test "x$bbt_dep_ok" != xyes && test "x$with_ggml" != xcheck && test "x$with_ggml" != xno],
    [AC_MSG_ERROR([--with-ggml was given but $bbt_dep_reason])])
  AC_SUBST([GGML_CFLAGS])
  AC_SUBST([GGML_LIBS])
  AC_SUBST([GGML_RPATH])
])
