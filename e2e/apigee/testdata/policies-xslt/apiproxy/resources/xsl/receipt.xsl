<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:s="urn:example:shop" exclude-result-prefixes="s">
  <xsl:output method="xml" omit-xml-declaration="yes"/>
  <xsl:param name="customer" select="'guest'"/>
  <xsl:template match="/s:order">
    <receipt customer="{$customer}" sku="{s:sku}" qty="{s:qty}"/>
  </xsl:template>
</xsl:stylesheet>
