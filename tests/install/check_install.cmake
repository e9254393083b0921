# The ctest check of `cmake --install`, run as
#   cmake -DBUILD=<build tree> -DSRC=<tests/install> -DWORK=<scratch> -DVERSION=<x.y.z>
#         -DCC=<C compiler> -P check_install.cmake
# Installs the build into WORK/prefix, then builds and runs a consumer through
# the CMake package (find_package(clconv x.y)) and again through pkg-config,
# and checks the library's soname and the .pc file's version.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(prefix "${WORK}/prefix")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REPLACE ";" " " cmd "${ARGN}")
  message("$ ${cmd}\n${out}${err}(exit ${rc})")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "exit status ${rc}")
  endif()
  set(run_out "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD}" --prefix "${prefix}")
string(REGEX MATCH "^[0-9]+\\.[0-9]+" major_minor "${VERSION}")

# The CMake package, asking for this major.minor.
run(${CMAKE_COMMAND} -S "${SRC}/consumer" -B "${WORK}/consumer"
    -DCMAKE_PREFIX_PATH=${prefix} -DCLCONV_WANT_VERSION=${major_minor}
    -DCMAKE_BUILD_RPATH=${prefix}/lib)
run(${CMAKE_COMMAND} --build "${WORK}/consumer")
run("${WORK}/consumer/consumer")
if(NOT run_out MATCHES "clconv ${VERSION}: conv2d output 1x8x16x16")
  message(FATAL_ERROR "the consumer printed '${run_out}'")
endif()

# pkg-config, as a Makefile would use it.
file(GLOB pc "${prefix}/lib*/pkgconfig/clconv.pc" "${prefix}/lib/*/pkgconfig/clconv.pc")
list(GET pc 0 pc)
get_filename_component(pcdir "${pc}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pcdir}")
run(pkg-config --modversion clconv)
string(STRIP "${run_out}" pcver)
if(NOT pcver STREQUAL VERSION)
  message(FATAL_ERROR "clconv.pc says ${pcver}, expected ${VERSION}")
endif()
run(pkg-config --cflags --libs clconv)
string(STRIP "${run_out}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
get_filename_component(libdir "${pc}" DIRECTORY)
get_filename_component(libdir "${libdir}" DIRECTORY)
run(${CC} "${SRC}/consumer/main.c" ${flags} -Wl,-rpath,${libdir} -o "${WORK}/consumer-pc")
run("${WORK}/consumer-pc")

# The soname carries major.minor (0.x: a minor release may change the ABI).
file(GLOB sonames "${libdir}/libclconv.so.${major_minor}")
if(NOT sonames)
  message(FATAL_ERROR "no ${libdir}/libclconv.so.${major_minor}")
endif()
