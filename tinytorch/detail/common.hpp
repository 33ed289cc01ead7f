// Internal helpers shared by the library's sources (never included by public headers).
// This is the one place that pulls in the heavy xtensor headers, so that compile times
// stay low and an xtensor upgrade (0.26 moved its headers) touches one file.
#pragma once

#include <xtensor/xarray.hpp>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>
#include <xtensor/xreducer.hpp>

#include <tinytorch/detail/blas.hpp>
#include <tinytorch/detail/errors.hpp>
#include <tinytorch/detail/rng.hpp>
#include <tinytorch/detail/shape.hpp>
#include <tinytorch/detail/threads.hpp>
#include <tinytorch/detail/workspace.hpp>
