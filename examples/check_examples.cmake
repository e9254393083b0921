# The ctest checks of edge_detect, run as
#   cmake -DCHECK=golden|sample|malformed -DEDGE_DETECT=... -DMAKE_SAMPLE=...
#         -DDATA=examples/data -DWORK=<scratch dir> -P check_examples.cmake
# Each check runs the programs, and fails (FATAL_ERROR) on a wrong exit status,
# a missing line of output or an output PGM of the wrong size.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

# run(<expected exit status> <stdout+stderr var> command...)
function(run expected out_var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REPLACE ";" " " cmd "${ARGN}")
  message("$ ${cmd}\n${out}${err}(exit ${rc})")
  if(NOT rc STREQUAL "${expected}")
    message(FATAL_ERROR "exit status ${rc}, expected ${expected}")
  endif()
  set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()

function(expect text wanted)
  string(FIND "${text}" "${wanted}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "the output does not contain:\n${wanted}")
  endif()
endfunction()

# An 8-bit binary PGM of width w and height h with edge_detect's header.
function(expect_pgm path w h)
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "${path} was not written")
  endif()
  set(header "P5\n${w} ${h}\n255\n")
  string(LENGTH "${header}" hlen)
  file(READ "${path}" got LIMIT ${hlen})
  if(NOT got STREQUAL header)
    message(FATAL_ERROR "${path}: header is '${got}', expected '${header}'")
  endif()
  file(SIZE "${path}" size)
  math(EXPR want "${hlen} + ${w} * ${h}")
  if(NOT size EQUAL want)
    message(FATAL_ERROR "${path}: ${size} bytes, expected ${want} (${w}x${h} pixels)")
  endif()
  message("${path}: P5 ${w}x${h}, ${size} bytes: OK")
endfunction()

if(CHECK STREQUAL "golden")
  # The study notes' examples (seeds/000), value for value.
  run(0 out "${EDGE_DETECT}" --valid --kernel laplacian --print "${DATA}/seed_5x5.pgm")
  expect("${out}" "response 3x3:\n-2 -1 -2\n-1 0 -2\n-1 -2 2\n")
  expect("${out}" ": OK")
  run(0 out "${EDGE_DETECT}" --valid --kernel edge-h --print "${DATA}/seed_6x8.pgm")
  expect("${out}" "P2 6x8 (HxW), maxval 1; kernel edge-h 1x2, padding valid -> 6x7 response")
  set(row "0 1 0 0 0 -1 0\n")
  expect("${out}" "response 6x7:\n${row}${row}${row}${row}${row}${row}")
  # With padding 'same' the 5x5 image keeps its size; the border sees the zeros.
  run(0 out "${EDGE_DETECT}" --print "${DATA}/seed_5x5.pgm" "${WORK}/seed_same.pgm")
  expect("${out}" "response 5x5:\n0 1 1 1 0\n1 -2 -1 -2 1\n")
  expect_pgm("${WORK}/seed_same.pgm" 5 5)
elseif(CHECK STREQUAL "sample")
  run(0 out "${MAKE_SAMPLE}" "${WORK}/s8.pgm")
  run(0 out "${MAKE_SAMPLE}" --maxval 65535 "${WORK}/s16.pgm")
  run(0 out "${MAKE_SAMPLE}" --p2 --maxval 1023 --size 40x30 "${WORK}/s_p2.pgm")
  run(0 out "${EDGE_DETECT}" "${WORK}/s8.pgm" "${WORK}/lap8.pgm")
  expect("${out}" "P5 64x96 (HxW), maxval 255; kernel laplacian 3x3, padding same -> 64x96 response")
  expect("${out}" ": OK")
  expect_pgm("${WORK}/lap8.pgm" 96 64)
  run(0 out "${EDGE_DETECT}" --kernel sobel-x "${WORK}/s16.pgm" "${WORK}/sx16.pgm")
  expect("${out}" "P5 64x96 (HxW), maxval 65535;")
  expect_pgm("${WORK}/sx16.pgm" 96 64)
  run(0 out "${EDGE_DETECT}" --kernel sobel-y --valid "${WORK}/s_p2.pgm" "${WORK}/sy.pgm")
  expect("${out}" "P2 30x40 (HxW), maxval 1023; kernel sobel-y 3x3, padding valid -> 28x38 response")
  expect_pgm("${WORK}/sy.pgm" 38 28)
  run(0 out "${EDGE_DETECT}" --kernel edge-h --valid "${WORK}/s8.pgm" "${WORK}/eh.pgm")
  expect_pgm("${WORK}/eh.pgm" 95 64)
  run(0 out "${EDGE_DETECT}" --help)
  expect("${out}" "round(255 * |r| /")
elseif(CHECK STREQUAL "malformed")
  # name | contents | expected message fragment
  set(cases
    "bitmap|P1\n2 2\n0 1 1 0\n|not a graymap"
    "text|hello\n|not a PGM file"
    "trunc5|P5\n4 4\n255\nabc|truncated: a 4x4 image with maxval 255 needs 16 bytes"
    "trunc16|P5\n2 2\n65535\nabcdef|needs 8 bytes of pixel data, the file has 6"
    "extra5|P5\n2 2\n255\nabcde|1 byte after the pixel data"
    "above|P2\n2 2\n3\n0 1 2 4\n|the pixel value 4 is above maxval 3 (pixel 4 of 4: row 1, column 1)"
    "word|P2\n2 2\n3\n0 1 x 2\n|found 'x' (pixel 3 of 4: row 1, column 0)"
    "trunc2|P2\n2 2\n3\n0 1 2\n|1 of the 4 pixels of the 2x2 image are missing"
    "zero|P2\n0 2\n3\n|width and height must be at least 1"
    "maxval0|P2\n2 2\n0\n0 0 0 0\n|maxval is 0"
    "maxval17|P2\n2 2\n70000\n|the maxval is larger than 65535"
    "huge|P5\n99999 2\n255\n|the width is larger than 16384"
    "nohdr|P5\n2 2|unexpected end of file while reading the maxval"
    "glued|P2\n2x2\n3\n0 0 0 0\n|the width is followed by 'x'")
  foreach(c IN LISTS cases)
    string(REPLACE "|" ";" parts "${c}")
    list(GET parts 0 name)
    list(GET parts 1 body)
    list(GET parts 2 msg)
    string(REPLACE "\\n" "\n" body "${body}")
    file(WRITE "${WORK}/${name}.pgm" "${body}")
    run(1 out "${EDGE_DETECT}" "${WORK}/${name}.pgm")
    expect("${out}" "${msg}")
  endforeach()
  run(1 out "${EDGE_DETECT}" "${WORK}/does-not-exist.pgm")
  expect("${out}" "cannot open")
  run(1 out "${EDGE_DETECT}" --valid --kernel laplacian "${WORK}/tiny.pgm")
  expect("${out}" "cannot open")
  file(WRITE "${WORK}/tiny.pgm" "P2\n2 2\n1\n0 1 1 0\n")
  run(1 out "${EDGE_DETECT}" --valid "${WORK}/tiny.pgm")
  expect("${out}" "--valid leaves no output")
  run(64 out "${EDGE_DETECT}")
  expect("${out}" "usage: edge_detect")
  run(64 out "${EDGE_DETECT}" --kernel prewitt "${WORK}/tiny.pgm")
  expect("${out}" "unknown kernel 'prewitt'")
else()
  message(FATAL_ERROR "unknown CHECK '${CHECK}'")
endif()
