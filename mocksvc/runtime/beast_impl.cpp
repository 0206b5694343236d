// The one translation unit holding Beast's compiled implementation.
#include <boost/beast/src.hpp>
