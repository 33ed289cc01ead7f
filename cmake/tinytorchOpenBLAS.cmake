# Debian's OpenBLAS package ships a CMake file that sets variables only
# (OpenBLAS_INCLUDE_DIRS, OpenBLAS_LIBRARIES); this wraps them in a target so that tinytorch's
# exported link interface can name it. Included after find_package(OpenBLAS), both by the
# build and by the installed tinytorchConfig.cmake.
if(NOT TARGET tinytorch::openblas)
  if(TINYTORCH_OPENBLAS_GLOBAL)
    add_library(tinytorch::openblas INTERFACE IMPORTED GLOBAL)
  else()
    add_library(tinytorch::openblas INTERFACE IMPORTED)
  endif()
  set_target_properties(tinytorch::openblas PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${OpenBLAS_LIBRARIES}")
endif()
