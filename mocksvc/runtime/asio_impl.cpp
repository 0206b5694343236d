// The one translation unit holding Asio's compiled implementation.
#include <boost/asio/impl/src.hpp>
