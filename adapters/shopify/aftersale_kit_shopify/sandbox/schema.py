"""The sandbox's subset of Shopify's GraphQL Admin schema, as SDL, built per API version.

Names and types follow Shopify's reference (shopify.dev/docs/api/admin-graphql): root types are
``QueryRoot`` and ``Mutation``; ids are GIDs; money is ``MoneyV2 {amount: Decimal,
currencyCode}`` inside ``MoneyBag {shopMoney, presentmentMoney}``; ``UnsignedInt64`` (for example
``Customer.numberOfOrders``) is serialised as a string. A field Shopify has and this subset lacks
fails validation here, as an unknown field fails on Shopify: extend the SDL when an adapter needs
more.

A line ending in ``# since YYYY-MM`` exists only from that API version on: ``context`` replaced
``customerSelection`` on discounts in 2025-10 (shopify.dev/changelog, "discount context").
"""

from __future__ import annotations

import functools
import re
from typing import Any

from graphql import (
    GraphQLInterfaceType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
)

__all__ = ["schema_for_version", "sdl_for_version"]

_CURRENCIES = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHF CLP CNY COP CRC CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL "
    "GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JEP JMD JOD JPY KES KGS "
    "KHR KID KMF KRW KWD KYD KZT LAK LBP LKR LRD LSL LTL LVL LYD MAD MDL MGA MKD MMK MNT MOP MRU "
    "MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD "
    "RUB RWF SAR SBD SCR SDG SEK SGD SHP SLL SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD "
    "TWD TZS UAH UGX USD USDC UYU UZS VED VES VND VUV WST XAF XCD XOF XPF XXX YER ZAR ZMW"
)

_COUNTRIES = (
    "AC AD AE AF AG AI AL AM AN AO AR AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR "
    "BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ "
    "EC EE EG EH ER ES ET FI FJ FK FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GW GY HK "
    "HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA "
    "LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MK ML MM MN MO MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PS PT PY QA RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TA TC TD TF TG TH TJ TK TL TM "
    "TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VN VU WF WS XK YE YT ZA ZM ZW ZZ"
)

_CONNECTION_ARGS = "first: Int, after: String, last: Int, before: String, reverse: Boolean = false"

_SDL = f"""
schema {{ query: QueryRoot mutation: Mutation }}

scalar DateTime
scalar Decimal
scalar URL
scalar UnsignedInt64
scalar JSON
scalar Money

interface Node {{ id: ID! }}

type PageInfo {{
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}}

type Count {{ count: Int! precision: CountPrecision! }}
enum CountPrecision {{ AT_LEAST EXACT }}

enum CurrencyCode {{ {_CURRENCIES} }}
enum CountryCode {{ {_COUNTRIES} }}

type MoneyV2 {{ amount: Decimal! currencyCode: CurrencyCode! }}
type MoneyBag {{ shopMoney: MoneyV2! presentmentMoney: MoneyV2! }}
type Attribute {{ key: String! value: String }}
type UserError {{ field: [String!] message: String! }}

type ApiVersion {{ handle: String! displayName: String! supported: Boolean! }}

type Shop implements Node {{
  id: ID!
  name: String!
  email: String!
  myshopifyDomain: String!
  currencyCode: CurrencyCode!
  ianaTimezone: String!
  metafield(namespace: String, key: String!): Metafield
  metafields(first: Int, after: String, namespace: String, keys: [String!]): MetafieldConnection!
}}

type MailingAddress implements Node {{
  id: ID!
  address1: String
  address2: String
  city: String
  company: String
  country: String
  countryCodeV2: CountryCode
  firstName: String
  lastName: String
  name: String
  phone: String
  province: String
  provinceCode: String
  zip: String
  latitude: Float
  longitude: Float
}}

enum CustomerState {{ DECLINED DISABLED ENABLED INVITED }}

type Customer implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  email: String
  firstName: String
  lastName: String
  displayName: String!
  phone: String
  locale: String!
  note: String
  state: CustomerState!
  tags: [String!]!
  numberOfOrders: UnsignedInt64!
  amountSpent: MoneyV2!
  createdAt: DateTime!
  updatedAt: DateTime!
  verifiedEmail: Boolean!
  taxExempt: Boolean!
  defaultAddress: MailingAddress
  metafield(namespace: String, key: String!): Metafield
  metafields(first: Int, after: String, namespace: String, keys: [String!]): MetafieldConnection!
  orders({_CONNECTION_ARGS}, query: String, sortKey: OrderSortKeys = ID): OrderConnection!
  emailMarketingConsent: CustomerEmailMarketingConsentState
}}

enum CustomerEmailMarketingState {{
  NOT_SUBSCRIBED PENDING SUBSCRIBED UNSUBSCRIBED REDACTED INVALID
}}
enum CustomerMarketingOptInLevel {{ SINGLE_OPT_IN CONFIRMED_OPT_IN UNKNOWN }}
type CustomerEmailMarketingConsentState {{
  marketingState: CustomerEmailMarketingState!
  marketingOptInLevel: CustomerMarketingOptInLevel
  consentUpdatedAt: DateTime
}}
input CustomerEmailMarketingConsentInput {{
  marketingState: CustomerEmailMarketingState!
  marketingOptInLevel: CustomerMarketingOptInLevel
  consentUpdatedAt: DateTime
  sourceLocationId: ID
}}
input CustomerEmailMarketingConsentUpdateInput {{
  customerId: ID!
  emailMarketingConsent: CustomerEmailMarketingConsentInput!
}}
type CustomerEmailMarketingConsentUpdateUserError {{
  code: String
  field: [String!]
  message: String!
}}
type CustomerEmailMarketingConsentUpdatePayload {{
  customer: Customer
  userErrors: [CustomerEmailMarketingConsentUpdateUserError!]!
}}

enum ProductStatus {{ ACTIVE ARCHIVED DRAFT }}

type Collection implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  handle: String!
  title: String!
}}
type CollectionEdge {{ cursor: String! node: Collection! }}
type CollectionConnection {{ edges: [CollectionEdge!]! nodes: [Collection!]! pageInfo: PageInfo! }}

type Product implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
  handle: String!
  productType: String!
  vendor: String!
  tags: [String!]!
  status: ProductStatus!
  createdAt: DateTime!
  updatedAt: DateTime!
  collections({_CONNECTION_ARGS}, query: String): CollectionConnection!
  metafield(namespace: String, key: String!): Metafield
  metafields(first: Int, after: String, namespace: String, keys: [String!]): MetafieldConnection!
}}
type ProductEdge {{ cursor: String! node: Product! }}
type ProductConnection {{ edges: [ProductEdge!]! nodes: [Product!]! pageInfo: PageInfo! }}

type ProductVariant implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
  displayName: String!
  sku: String
  price: Money!
  product: Product!
}}
type ProductVariantEdge {{ cursor: String! node: ProductVariant! }}
type ProductVariantConnection {{
  edges: [ProductVariantEdge!]!
  nodes: [ProductVariant!]!
  pageInfo: PageInfo!
}}

type LineItem implements Node {{
  id: ID!
  name: String!
  title: String!
  quantity: Int!
  currentQuantity: Int!
  refundableQuantity: Int!
  unfulfilledQuantity: Int!
  sku: String
  vendor: String
  variantTitle: String
  variant: ProductVariant
  product: Product
  originalUnitPriceSet: MoneyBag!
  discountedUnitPriceSet: MoneyBag!
  originalTotalSet: MoneyBag!
  discountedTotalSet: MoneyBag!
  totalDiscountSet: MoneyBag!
  discountAllocations: [DiscountAllocation!]!
  isGiftCard: Boolean!
  requiresShipping: Boolean!
  taxable: Boolean!
  customAttributes: [Attribute!]!
}}
type DiscountAllocation {{ allocatedAmountSet: MoneyBag! }}
type LineItemEdge {{ cursor: String! node: LineItem! }}
type LineItemConnection {{ edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }}

type ShippingLine {{
  id: ID
  title: String!
  code: String
  source: String
  carrierIdentifier: String
  originalPriceSet: MoneyBag!
  discountedPriceSet: MoneyBag!
}}

type Refund implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  createdAt: DateTime
  note: String
  totalRefundedSet: MoneyBag!
}}

enum FulfillmentStatus {{ CANCELLED ERROR FAILURE OPEN PENDING SUCCESS }}
type FulfillmentTrackingInfo {{ company: String number: String url: URL }}
type Fulfillment implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  status: FulfillmentStatus!
  createdAt: DateTime!
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
}}

enum OrderCancelReason {{ CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }}
enum OrderDisplayFinancialStatus {{
  AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED
}}
enum OrderDisplayFulfillmentStatus {{
  FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT REQUEST_DECLINED
  RESTOCKED SCHEDULED UNFULFILLED
}}
enum OrderSortKeys {{
  CREATED_AT CURRENT_TOTAL_PRICE CUSTOMER_NAME DESTINATION FINANCIAL_STATUS FULFILLMENT_STATUS ID
  ORDER_NUMBER PO_NUMBER PROCESSED_AT RELEVANCE TOTAL_ITEMS_QUANTITY TOTAL_PRICE UPDATED_AT
}}

type Order implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  email: String
  phone: String
  createdAt: DateTime!
  updatedAt: DateTime!
  processedAt: DateTime!
  closedAt: DateTime
  closed: Boolean!
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  confirmed: Boolean!
  test: Boolean!
  note: String
  tags: [String!]!
  currencyCode: CurrencyCode!
  presentmentCurrencyCode: CurrencyCode!
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  fullyPaid: Boolean!
  subtotalPriceSet: MoneyBag
  totalPriceSet: MoneyBag!
  totalDiscountsSet: MoneyBag
  totalShippingPriceSet: MoneyBag!
  totalTaxSet: MoneyBag
  totalRefundedSet: MoneyBag!
  currentSubtotalPriceSet: MoneyBag!
  currentTotalPriceSet: MoneyBag!
  currentTotalDiscountsSet: MoneyBag!
  customer: Customer
  lineItems({_CONNECTION_ARGS}): LineItemConnection!
  shippingAddress: MailingAddress
  billingAddress: MailingAddress
  discountCode: String
  discountCodes: [String!]!
  sourceName: String
  customAttributes: [Attribute!]!
  paymentGatewayNames: [String!]!
  shippingLine: ShippingLine
  customerLocale: String
  statusPageUrl: URL!
  confirmationNumber: String
  refunds(first: Int): [Refund!]!
  fulfillments(first: Int): [Fulfillment!]!
  metafield(namespace: String, key: String!): Metafield
  metafields(first: Int, after: String, namespace: String, keys: [String!]): MetafieldConnection!
}}
type OrderEdge {{ cursor: String! node: Order! }}
type OrderConnection {{ edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }}

enum MetafieldOwnerType {{
  COLLECTION CUSTOMER DISCOUNT ORDER PRODUCT PRODUCTVARIANT SHOP
}}
type Metafield implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  namespace: String!
  key: String!
  value: String!
  type: String!
  jsonValue: JSON!
  ownerType: MetafieldOwnerType!
  compareDigest: String!
  createdAt: DateTime!
  updatedAt: DateTime!
}}
type MetafieldEdge {{ cursor: String! node: Metafield! }}
type MetafieldConnection {{ edges: [MetafieldEdge!]! nodes: [Metafield!]! pageInfo: PageInfo! }}

input MetafieldsSetInput {{
  ownerId: ID!
  namespace: String
  key: String!
  value: String!
  type: String
  compareDigest: String
}}
enum MetafieldsSetUserErrorCode {{
  APP_NOT_AUTHORIZED BLANK CAPABILITY_VIOLATION INCLUSION INVALID INVALID_COMPARE_DIGEST
  INVALID_TYPE INVALID_VALUE LESS_THAN_OR_EQUAL_TO PRESENT TAKEN TOO_LONG TOO_SHORT
}}
type MetafieldsSetUserError {{
  field: [String!]
  message: String!
  code: MetafieldsSetUserErrorCode
  elementIndex: Int
}}
type MetafieldsSetPayload {{ metafields: [Metafield!] userErrors: [MetafieldsSetUserError!]! }}

type TagsAddPayload {{ node: Node userErrors: [UserError!]! }}
input AttributeInput {{ key: String! value: String! }}
input OrderInput {{
  id: ID!
  note: String
  tags: [String!]
  customAttributes: [AttributeInput!]
  email: String
  phone: String
  poNumber: String
}}
type OrderUpdatePayload {{ order: Order userErrors: [UserError!]! }}
type TagsRemovePayload {{ node: Node userErrors: [UserError!]! }}

# -- discounts ---------------------------------------------------------------------------------

enum DiscountStatus {{ ACTIVE EXPIRED SCHEDULED }}
enum DiscountClass {{ ORDER PRODUCT SHIPPING }}
enum DiscountErrorCode {{
  ACTIVE_PERIOD_OVERLAP BLANK CONFLICT DUPLICATE END_DATE_BEFORE_START_DATE EQUAL_TO EXCEEDED_MAX
  GREATER_THAN GREATER_THAN_OR_EQUAL_TO IMPLICIT_DUPLICATE INCLUSION INTERNAL_ERROR INVALID
  INVALID_COMBINES_WITH_FOR_DISCOUNT_CLASS INVALID_DISCOUNT_CLASS_FOR_PRICE_RULE LESS_THAN
  LESS_THAN_OR_EQUAL_TO MAX_APP_DISCOUNTS MINIMUM_SUBTOTAL_AND_QUANTITY_RANGE_BOTH_PRESENT
  MISSING_ARGUMENT PRESENT TAKEN TOO_LONG TOO_MANY_ARGUMENTS TOO_SHORT VALUE_OUTSIDE_RANGE
}}
type DiscountUserError {{
  code: DiscountErrorCode
  extraInfo: String
  field: [String!]
  message: String!
}}

type DiscountRedeemCode {{ id: ID! code: String! asyncUsageCount: Int! }}
type DiscountRedeemCodeEdge {{ cursor: String! node: DiscountRedeemCode! }}
type DiscountRedeemCodeConnection {{
  edges: [DiscountRedeemCodeEdge!]!
  nodes: [DiscountRedeemCode!]!
  pageInfo: PageInfo!
}}

type DiscountAmount {{ amount: MoneyV2! appliesOnEachItem: Boolean! }}
type DiscountPercentage {{ percentage: Float! }}
type DiscountQuantity {{ quantity: UnsignedInt64! }}
union DiscountEffect = DiscountAmount | DiscountPercentage
type DiscountOnQuantity {{ quantity: DiscountQuantity! effect: DiscountEffect! }}
union DiscountCustomerGetsValue = DiscountAmount | DiscountOnQuantity | DiscountPercentage

type AllDiscountItems {{ allItems: Boolean! }}
type DiscountCollections {{ collections({_CONNECTION_ARGS}): CollectionConnection! }}
type DiscountProducts {{
  products({_CONNECTION_ARGS}): ProductConnection!
  productVariants({_CONNECTION_ARGS}): ProductVariantConnection!
}}
union DiscountItems = AllDiscountItems | DiscountCollections | DiscountProducts

type DiscountCustomerGets {{
  value: DiscountCustomerGetsValue!
  items: DiscountItems!
  appliesOnOneTimePurchase: Boolean!
  appliesOnSubscription: Boolean!
}}

type DiscountMinimumSubtotal {{ greaterThanOrEqualToSubtotal: MoneyV2! }}
type DiscountMinimumQuantity {{ greaterThanOrEqualToQuantity: UnsignedInt64! }}
union DiscountMinimumRequirement = DiscountMinimumQuantity | DiscountMinimumSubtotal

type DiscountCombinesWith {{
  orderDiscounts: Boolean!
  productDiscounts: Boolean!
  shippingDiscounts: Boolean!
}}

enum DiscountBuyerSelection {{ ALL }}
type Segment {{ id: ID! name: String! }}
type DiscountBuyerSelectionAll {{ all: DiscountBuyerSelection! }}  # since 2025-10
type DiscountCustomers {{ customers: [Customer!]! }}
type DiscountCustomerSegments {{ segments: [Segment!]! }}
type DiscountCustomerAll {{ allCustomers: Boolean! }}
union DiscountContext =  # since 2025-10
  DiscountBuyerSelectionAll | DiscountCustomers | DiscountCustomerSegments  # since 2025-10
union DiscountCustomerSelection = DiscountCustomerAll | DiscountCustomerSegments | DiscountCustomers

type DiscountCountryAll {{ allCountries: Boolean! }}
type DiscountCountries {{ countries: [CountryCode!]! includeRestOfWorld: Boolean! }}
union DiscountShippingDestinationSelection = DiscountCountries | DiscountCountryAll

type DiscountCodeBasic {{
  title: String!
  status: DiscountStatus!
  summary: String!
  startsAt: DateTime!
  endsAt: DateTime
  createdAt: DateTime!
  updatedAt: DateTime!
  codes({_CONNECTION_ARGS}, query: String): DiscountRedeemCodeConnection!
  codesCount: Count
  asyncUsageCount: Int!
  usageLimit: Int
  appliesOncePerCustomer: Boolean!
  recurringCycleLimit: Int
  customerGets: DiscountCustomerGets!
  minimumRequirement: DiscountMinimumRequirement
  combinesWith: DiscountCombinesWith!
  context: DiscountContext!  # since 2025-10
  customerSelection: DiscountCustomerSelection!
  discountClass: DiscountClass!
  discountClasses: [DiscountClass!]!
  hasTimelineComment: Boolean!
}}

type DiscountCodeFreeShipping {{
  title: String!
  status: DiscountStatus!
  summary: String!
  startsAt: DateTime!
  endsAt: DateTime
  createdAt: DateTime!
  updatedAt: DateTime!
  codes({_CONNECTION_ARGS}, query: String): DiscountRedeemCodeConnection!
  codesCount: Count
  asyncUsageCount: Int!
  usageLimit: Int
  appliesOncePerCustomer: Boolean!
  appliesOnOneTimePurchase: Boolean!
  appliesOnSubscription: Boolean!
  recurringCycleLimit: Int
  minimumRequirement: DiscountMinimumRequirement
  combinesWith: DiscountCombinesWith!
  context: DiscountContext!  # since 2025-10
  customerSelection: DiscountCustomerSelection!
  destinationSelection: DiscountShippingDestinationSelection!
  maximumShippingPrice: MoneyV2
  discountClass: DiscountClass!
  discountClasses: [DiscountClass!]!
  hasTimelineComment: Boolean!
}}

type DiscountCodeBxgy {{
  title: String!
  status: DiscountStatus!
  summary: String!
  startsAt: DateTime!
  endsAt: DateTime
  codes({_CONNECTION_ARGS}, query: String): DiscountRedeemCodeConnection!
  asyncUsageCount: Int!
  usageLimit: Int
}}

type DiscountCodeApp {{
  title: String!
  status: DiscountStatus!
  startsAt: DateTime!
  endsAt: DateTime
  codes({_CONNECTION_ARGS}, query: String): DiscountRedeemCodeConnection!
  asyncUsageCount: Int!
  usageLimit: Int
}}

union DiscountCode =
  DiscountCodeApp | DiscountCodeBasic | DiscountCodeBxgy | DiscountCodeFreeShipping

type DiscountCodeNode implements Node {{
  id: ID!
  codeDiscount: DiscountCode!
  metafield(namespace: String, key: String!): Metafield
  metafields(first: Int, after: String, namespace: String, keys: [String!]): MetafieldConnection!
}}
type DiscountCodeNodeEdge {{ cursor: String! node: DiscountCodeNode! }}
type DiscountCodeNodeConnection {{
  edges: [DiscountCodeNodeEdge!]!
  nodes: [DiscountCodeNode!]!
  pageInfo: PageInfo!
}}

input DiscountCustomersInput {{ add: [ID!] remove: [ID!] }}
input DiscountCustomerSegmentsInput {{ add: [ID!] remove: [ID!] }}
input DiscountContextInput {{  # since 2025-10
  all: DiscountBuyerSelection  # since 2025-10
  customers: DiscountCustomersInput  # since 2025-10
  customerSegments: DiscountCustomerSegmentsInput  # since 2025-10
}}  # since 2025-10
input DiscountCustomerSelectionInput {{
  all: Boolean
  customers: DiscountCustomersInput
  customerSegments: DiscountCustomerSegmentsInput
}}
input DiscountAmountInput {{ amount: Decimal appliesOnEachItem: Boolean }}
input DiscountCustomerGetsValueInput {{ percentage: Float discountAmount: DiscountAmountInput }}
input DiscountProductsInput {{
  productsToAdd: [ID!]
  productsToRemove: [ID!]
  productVariantsToAdd: [ID!]
  productVariantsToRemove: [ID!]
}}
input DiscountCollectionsInput {{ add: [ID!] remove: [ID!] }}
input DiscountItemsInput {{
  all: Boolean
  products: DiscountProductsInput
  collections: DiscountCollectionsInput
}}
input DiscountCustomerGetsInput {{
  value: DiscountCustomerGetsValueInput
  items: DiscountItemsInput
  appliesOnOneTimePurchase: Boolean
  appliesOnSubscription: Boolean
}}
input DiscountMinimumSubtotalInput {{ greaterThanOrEqualToSubtotal: Decimal }}
input DiscountMinimumQuantityInput {{ greaterThanOrEqualToQuantity: UnsignedInt64 }}
input DiscountMinimumRequirementInput {{
  subtotal: DiscountMinimumSubtotalInput
  quantity: DiscountMinimumQuantityInput
}}
input DiscountCombinesWithInput {{
  orderDiscounts: Boolean
  productDiscounts: Boolean
  shippingDiscounts: Boolean
}}
input DiscountCountriesInput {{
  add: [CountryCode!]
  remove: [CountryCode!]
  includeRestOfWorld: Boolean
}}
input DiscountShippingDestinationSelectionInput {{ all: Boolean countries: DiscountCountriesInput }}

input DiscountCodeBasicInput {{
  title: String
  code: String
  startsAt: DateTime
  endsAt: DateTime
  usageLimit: Int
  appliesOncePerCustomer: Boolean
  recurringCycleLimit: Int
  context: DiscountContextInput  # since 2025-10
  customerSelection: DiscountCustomerSelectionInput
  customerGets: DiscountCustomerGetsInput
  minimumRequirement: DiscountMinimumRequirementInput
  combinesWith: DiscountCombinesWithInput
}}

input DiscountCodeFreeShippingInput {{
  title: String
  code: String
  startsAt: DateTime
  endsAt: DateTime
  usageLimit: Int
  appliesOncePerCustomer: Boolean
  appliesOnOneTimePurchase: Boolean
  appliesOnSubscription: Boolean
  recurringCycleLimit: Int
  context: DiscountContextInput  # since 2025-10
  customerSelection: DiscountCustomerSelectionInput
  minimumRequirement: DiscountMinimumRequirementInput
  combinesWith: DiscountCombinesWithInput
  destination: DiscountShippingDestinationSelectionInput
  maximumShippingPrice: Decimal
}}

type DiscountCodeBasicCreatePayload {{
  codeDiscountNode: DiscountCodeNode
  userErrors: [DiscountUserError!]!
}}
type DiscountCodeFreeShippingCreatePayload {{
  codeDiscountNode: DiscountCodeNode
  userErrors: [DiscountUserError!]!
}}
type DiscountCodeActivatePayload {{
  codeDiscountNode: DiscountCodeNode
  userErrors: [DiscountUserError!]!
}}
type DiscountCodeDeactivatePayload {{
  codeDiscountNode: DiscountCodeNode
  userErrors: [DiscountUserError!]!
}}
type DiscountCodeDeletePayload {{
  deletedCodeDiscountId: ID
  userErrors: [DiscountUserError!]!
}}

input DiscountRedeemCodeInput {{ code: String! }}
type DiscountRedeemCodeBulkCreationCode {{
  code: String!
  errors: [DiscountUserError!]!
  discountRedeemCode: DiscountRedeemCode
}}
type DiscountRedeemCodeBulkCreationCodeEdge {{
  cursor: String!
  node: DiscountRedeemCodeBulkCreationCode!
}}
type DiscountRedeemCodeBulkCreationCodeConnection {{
  edges: [DiscountRedeemCodeBulkCreationCodeEdge!]!
  nodes: [DiscountRedeemCodeBulkCreationCode!]!
  pageInfo: PageInfo!
}}
type DiscountRedeemCodeBulkCreation implements Node {{
  id: ID!
  done: Boolean!
  codesCount: Int!
  importedCount: Int!
  failedCount: Int!
  createdAt: DateTime!
  codes({_CONNECTION_ARGS}): DiscountRedeemCodeBulkCreationCodeConnection!
  discountCode: DiscountCodeNode
}}
type DiscountRedeemCodeBulkAddPayload {{
  bulkCreation: DiscountRedeemCodeBulkCreation
  userErrors: [DiscountUserError!]!
}}

# -- webhooks ----------------------------------------------------------------------------------

enum WebhookSubscriptionTopic {{
  APP_UNINSTALLED CUSTOMERS_CREATE CUSTOMERS_UPDATE ORDERS_CANCELLED ORDERS_CREATE ORDERS_DELETE
  ORDERS_EDITED ORDERS_FULFILLED ORDERS_PAID ORDERS_PARTIALLY_FULFILLED ORDERS_UPDATED
  PRODUCTS_CREATE PRODUCTS_UPDATE REFUNDS_CREATE SHOP_UPDATE
}}
enum WebhookSubscriptionFormat {{ JSON XML }}
enum WebhookSubscriptionSortKeys {{ CREATED_AT ID RELEVANCE }}

input WebhookSubscriptionInput {{
  callbackUrl: URL
  uri: String
  format: WebhookSubscriptionFormat
  includeFields: [String!]
  metafieldNamespaces: [String!]
  filter: String
}}

type WebhookHttpEndpoint {{ callbackUrl: URL! }}
union WebhookSubscriptionEndpoint = WebhookHttpEndpoint

type WebhookSubscription implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  topic: WebhookSubscriptionTopic!
  format: WebhookSubscriptionFormat!
  includeFields: [String!]!
  metafieldNamespaces: [String!]!
  filter: String
  callbackUrl: URL!
  uri: String!
  endpoint: WebhookSubscriptionEndpoint!
  apiVersion: ApiVersion!
  createdAt: DateTime!
  updatedAt: DateTime!
}}
type WebhookSubscriptionEdge {{ cursor: String! node: WebhookSubscription! }}
type WebhookSubscriptionConnection {{
  edges: [WebhookSubscriptionEdge!]!
  nodes: [WebhookSubscription!]!
  pageInfo: PageInfo!
}}
type WebhookSubscriptionCreatePayload {{
  webhookSubscription: WebhookSubscription
  userErrors: [UserError!]!
}}
type WebhookSubscriptionDeletePayload {{
  deletedWebhookSubscriptionId: ID
  userErrors: [UserError!]!
}}

# -- roots -------------------------------------------------------------------------------------

type QueryRoot {{
  shop: Shop!
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  order(id: ID!): Order
  orders({_CONNECTION_ARGS}, query: String, sortKey: OrderSortKeys = PROCESSED_AT): OrderConnection!
  ordersCount(query: String, limit: Int = 10000): Count
  customer(id: ID!): Customer
  product(id: ID!): Product
  collections({_CONNECTION_ARGS}, query: String): CollectionConnection!
  codeDiscountNode(id: ID!): DiscountCodeNode
  codeDiscountNodeByCode(code: String!): DiscountCodeNode
  codeDiscountNodes({_CONNECTION_ARGS}, query: String): DiscountCodeNodeConnection!
  discountRedeemCodeBulkCreation(id: ID!): DiscountRedeemCodeBulkCreation
  webhookSubscription(id: ID!): WebhookSubscription
  webhookSubscriptions(
    {_CONNECTION_ARGS}
    topics: [WebhookSubscriptionTopic!]
    callbackUrl: URL
    format: WebhookSubscriptionFormat
    sortKey: WebhookSubscriptionSortKeys = CREATED_AT
    query: String
  ): WebhookSubscriptionConnection!
}}

type Mutation {{
  discountCodeBasicCreate(
    basicCodeDiscount: DiscountCodeBasicInput!
  ): DiscountCodeBasicCreatePayload
  discountCodeFreeShippingCreate(
    freeShippingCodeDiscount: DiscountCodeFreeShippingInput!
  ): DiscountCodeFreeShippingCreatePayload
  discountCodeActivate(id: ID!): DiscountCodeActivatePayload
  discountCodeDeactivate(id: ID!): DiscountCodeDeactivatePayload
  discountCodeDelete(id: ID!): DiscountCodeDeletePayload
  discountRedeemCodeBulkAdd(
    discountId: ID!
    codes: [DiscountRedeemCodeInput!]!
  ): DiscountRedeemCodeBulkAddPayload
  metafieldsSet(metafields: [MetafieldsSetInput!]!): MetafieldsSetPayload
  orderUpdate(input: OrderInput!): OrderUpdatePayload
  tagsAdd(id: ID!, tags: [String!]!): TagsAddPayload
  customerEmailMarketingConsentUpdate(
    input: CustomerEmailMarketingConsentUpdateInput!
  ): CustomerEmailMarketingConsentUpdatePayload
  tagsRemove(id: ID!, tags: [String!]!): TagsRemovePayload
  webhookSubscriptionCreate(
    topic: WebhookSubscriptionTopic!
    webhookSubscription: WebhookSubscriptionInput!
  ): WebhookSubscriptionCreatePayload
  webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
}}
"""

_SINCE = re.compile(r"#\s*since\s+(\d{4}-\d{2})\s*$")


def sdl_for_version(version: str) -> str:
    """The SDL with every line marked ``# since X`` dropped when ``version`` is older than X."""
    kept: list[str] = []
    for line in _SDL.splitlines():
        marker = _SINCE.search(line)
        if marker is not None and version < marker.group(1):
            continue
        kept.append(line)
    return "\n".join(kept)


@functools.cache
def schema_for_version(version: str) -> GraphQLSchema:
    """The executable schema for one API version (built once per version)."""
    schema = build_schema(sdl_for_version(version))
    for named in schema.type_map.values():
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            named.resolve_type = _resolve_type
    return schema


def _resolve_type(value: Any, info: Any, abstract_type: Any) -> str | None:
    """Views carry ``typename``; small value objects are dicts with ``__typename``."""
    if isinstance(value, dict):
        name = value.get("__typename")
        return str(name) if name else None
    name = getattr(value, "typename", None)
    return str(name) if name else None
