#include "tests/agentsim/test_util.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>

#include "agentsim/rsa_key.hpp"
#include "mocksvc/base/uuid.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace ssmh::agentsim::testing {

namespace wire = mocksvc::wire;

std::string session_document(std::string_view session_type, std::string_view properties_json, std::string_view schema) {
  return std::string(R"({"schemaVersion":")") + std::string(schema) +
         R"(","description":"test","sessionType":")" + std::string(session_type) +
         R"(","inputs":{"s3BucketName":"","kmsKeyId":"","runAsEnabled":false,"shellProfile":{"linux":"","windows":""}},)"
         R"("parameters":{},"properties":)" +
         std::string(properties_json) + "}";
}

wire::Bytes interactive_shell_frame(std::string_view session_id, std::string_view document) {
  wire::InteractiveShellTask task;
  task.session_id = std::string(session_id);
  task.document_name = "SSM-SessionManagerRunShell";
  task.session_owner = "arn:aws:iam::123456789012:user/tester";
  task.document_content_json = std::string(document);
  wire::MgsPayload envelope;
  envelope.content = task.to_json();
  envelope.task_id = std::string(session_id);
  envelope.topic = "aws.ssm.startSession";
  return wire::encode(wire::make_message(wire::msg::kInteractiveShell, 0, 0, wire::PayloadType::none,
                                         envelope.to_json()));
}

wire::Bytes channel_closed_frame(std::string_view session_id, std::string_view instance_id) {
  wire::ChannelClosed c;
  c.message_id = mocksvc::base::random_uuid_string();
  c.created_date = "2026-11-25T00:00:00.000Z";
  c.destination_id = std::string(instance_id);
  c.session_id = std::string(session_id);
  return wire::encode(wire::make_message(wire::msg::kChannelClosed, 0, 0, wire::PayloadType::none, c.to_json()));
}

wire::Bytes task_acknowledge_frame(std::string_view message_id, std::string_view session_id) {
  wire::AgentTaskAcknowledge a;
  a.message_id = std::string(message_id);
  a.task_id = std::string(session_id);
  return wire::encode(
      wire::make_message(wire::msg::kAgentTaskAcknowledge, 0, 0, wire::PayloadType::none, a.to_json()));
}

bool verify_pss(std::string_view public_key_base64, std::string_view message, std::string_view signature) {
  auto der = base64_decode(public_key_base64);
  if (!der) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())),
                                                          &EVP_PKEY_free);
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get()) != 1) return false;
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

}  // namespace ssmh::agentsim::testing
