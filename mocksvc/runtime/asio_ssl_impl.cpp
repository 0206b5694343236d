// The one translation unit holding Asio's SSL implementation.
#include <boost/asio/ssl/impl/src.hpp>
